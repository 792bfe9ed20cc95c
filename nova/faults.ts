// Fault injection, so Trove's failure handling can be exercised against this
// mock without a real cloud misbehaving on cue. All routes need the same
// X-Auth-Token as the rest of the API and are never themselves delayed or
// failed by the injected faults.
//
//   GET    /v2.1/_faults          -> {"faults": {fail_next_builds, error_next_builds, api_error_rate, latency_ms}}
//   PUT    /v2.1/_faults          body: any subset of those fields; omitted fields keep their value
//            fail_next_builds  N   next N valid POST /servers answer 500 and create nothing
//            error_next_builds N   next N valid POST /servers are accepted (202) but end in ERROR, no processes
//            api_error_rate  0..1  that fraction of API calls answers 500 before doing anything
//            latency_ms        N   added to every API call
//   DELETE /v2.1/_faults          -> reset everything to 0 (204)
//   POST   /v2.1/_faults/servers/{id}/crash       SIGKILL the server's whole process group; SHUTOFF until os-start
//   POST   /v2.1/_faults/zones/{zone}/crash       crash every running server of the zone at once -> {"crashed": [ids]}
//                                                  (the zone then reports unavailable in os-availability-zone)
//   POST   /v2.1/_faults/zones/{zone}/recover     the zone's hosts are back (available again); its servers stay SHUTOFF
//   POST   /v2.1/_faults/servers/{id}/hang        SIGSTOP the group; status stays ACTIVE (a frozen VM)
//   POST   /v2.1/_faults/servers/{id}/resume      SIGCONT the group
//   POST   /v2.1/_faults/servers/{id}/kill-guest  SIGKILL only the guest agent; the server's init restarts it
import { z } from 'zod';

export const faultSettingsSchema = z.object({
  fail_next_builds: z.number().int().min(0),
  error_next_builds: z.number().int().min(0),
  api_error_rate: z.number().min(0).max(1),
  latency_ms: z.number().int().min(0).max(600_000),
});

export type FaultSettings = z.infer<typeof faultSettingsSchema>;
export const faultUpdateSchema = faultSettingsSchema.partial().strict();

const NO_FAULTS: FaultSettings = { fail_next_builds: 0, error_next_builds: 0, api_error_rate: 0, latency_ms: 0 };

export class FaultInjector {
  private settings: FaultSettings = { ...NO_FAULTS };

  /** random is injectable so error-rate behaviour can be tested deterministically. */
  constructor(private readonly random: () => number = Math.random) {}

  get(): FaultSettings {
    return { ...this.settings };
  }

  update(patch: Partial<FaultSettings>): FaultSettings {
    this.settings = { ...this.settings, ...patch };
    return this.get();
  }

  reset(): void {
    this.settings = { ...NO_FAULTS };
  }

  latencyMs(): number {
    return this.settings.latency_ms;
  }

  shouldFailApiCall(): boolean {
    return this.settings.api_error_rate > 0 && this.random() < this.settings.api_error_rate;
  }

  /** Consumes one pending build fault, if any; failures win over errors. */
  takeBuildFault(): 'fail' | 'error' | undefined {
    if (this.settings.fail_next_builds > 0) {
      this.settings.fail_next_builds -= 1;
      return 'fail';
    }
    if (this.settings.error_next_builds > 0) {
      this.settings.error_next_builds -= 1;
      return 'error';
    }
    return undefined;
  }
}
