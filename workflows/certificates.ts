// A member's certificate from its set's CA, in three steps on two machines: the member's
// guest makes a request with its own key (which never leaves it), the orchestrator signs it
// naming the member's recorded address, the guest installs it and MariaDB reloads it.
// Only public material (request, certificates) passes through the history.
import { authority, guestActivities } from './common';

export interface IssuedCertificate {
  instanceId: string;
  /** How MariaDB loaded it ('flush ssl': no restart). */
  reloaded: string;
  serial: string;
  notAfter: string;
}

/** `fromNext`: signed by the CA a rotation is moving the set to (the member trusts both meanwhile). */
export async function issueCertificate(setId: string, member: { id: string; novaServerId: string }, fromNext = false): Promise<IssuedCertificate> {
  const guest = guestActivities(member.novaServerId);
  const { csrPem } = await guest.certificateRequest();
  const signed = await authority.signServerCertificate({ setId, instanceId: member.id, csrPem, ...(fromNext ? { authority: 'next' as const } : {}) });
  const installed = await guest.installCertificate({ certificatePem: signed.certificatePem, caCertificatePem: signed.caCertificatePem });
  return { instanceId: member.id, reloaded: installed.reloaded, serial: signed.serial, notAfter: signed.notAfter };
}
