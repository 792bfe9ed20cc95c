// A member's certificate from its set's CA, in three steps on two machines: the member's
// guest makes a request with its own key (which never leaves it), the orchestrator signs it
// naming the member's recorded address, the guest installs it and MariaDB reloads it.
// Only public material (request, certificates) passes through the history.
import { authority, guestActivities } from './common';

export async function issueCertificate(setId: string, member: { id: string; novaServerId: string }): Promise<{ instanceId: string; reloaded: string }> {
  const guest = guestActivities(member.novaServerId);
  const { csrPem } = await guest.certificateRequest();
  const signed = await authority.signServerCertificate({ setId, instanceId: member.id, csrPem });
  const installed = await guest.installCertificate({ certificatePem: signed.certificatePem, caCertificatePem: signed.caCertificatePem });
  return { instanceId: member.id, reloaded: installed.reloaded };
}
