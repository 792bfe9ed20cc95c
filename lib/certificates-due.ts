// When a member's server certificate is renewed without being asked: within the configured
// lead of its expiry (TROVE_TLS_RENEW_BEFORE_DAYS, 30 days by default), but never earlier than
// two thirds into its life. Without that floor a certificate that lives shorter than the lead
// (a deployment, or a test, that issues short certificates) would be due again the moment it
// is renewed. Pure: the watch asks it and remembers when to ask again, so a set whose
// certificates are far from expiry costs no registry read and no history between checkpoints.

export interface CertificateLife {
  instanceId: string;
  notAfter: Date;
  /** When it was issued (its life began). */
  issued: Date;
}

const DAY_MS = 86_400_000;

/** How long before its expiry this certificate is renewed. */
export function renewalLeadMs(c: CertificateLife, renewBeforeDays: number): number {
  const life = Math.max(0, c.notAfter.getTime() - c.issued.getTime());
  return Math.min(renewBeforeDays * DAY_MS, life / 3);
}

export interface CertificatesDue {
  /** Members whose certificate is due now, sorted. */
  due: string[];
  /** When the next certificate not due yet becomes due (null: none left). */
  nextDueAt: Date | null;
}

export function certificatesDue(certificates: CertificateLife[], now: Date, renewBeforeDays: number): CertificatesDue {
  const due: string[] = [];
  let next: number | null = null;
  for (const c of certificates) {
    const at = c.notAfter.getTime() - renewalLeadMs(c, renewBeforeDays);
    if (at <= now.getTime()) due.push(c.instanceId);
    else next = next === null ? at : Math.min(next, at);
  }
  return { due: due.sort(), nextDueAt: next === null ? null : new Date(next) };
}
