// The watch's look at a TLS set's certificates (lib/certificates-due.ts decides): read from
// the registry at the watch's first poll and then only when the next one comes due, so a set
// whose certificates are far from expiry costs one read per checkpoint and no history.
import { certificatesDue, type CertificateLife } from '../../lib/certificates-due';
import type { SetView } from '../registry/views';

export interface CertificateRenewalDeps {
  serverCertificates(setId: string): Promise<CertificateLife[]>;
  /** TROVE_TLS_RENEW_BEFORE_DAYS. */
  renewBeforeDays: number;
}

/** A certificate found due is looked at again after this long (a renewal is under way or quiet). */
const DUE_RECHECK_MS = 30_000;

export function certificateWatch(deps: CertificateRenewalDeps | undefined) {
  let nextLookAt = 0;
  return {
    /** The members whose certificate is due for renewal now (none while an operation holds the set). */
    async due(view: SetView, now: number): Promise<string[]> {
      if (!deps || !view.settings.tls || view.lock.operationId || now < nextLookAt) return [];
      const r = certificatesDue(await deps.serverCertificates(view.setId), new Date(now), deps.renewBeforeDays);
      nextLookAt = r.due.length ? now + DUE_RECHECK_MS : (r.nextDueAt?.getTime() ?? Number.POSITIVE_INFINITY);
      return r.due;
    },
  };
}
