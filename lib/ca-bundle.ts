// What a member trusts during a CA rotation, as one file: apart from lib/certificates.ts
// (which needs node:net) so that workflow code can build it.

/** The CAs a member trusts, as one PEM file: during a CA rotation the new CA first, then the one it replaces. */
export const caBundle = (...certificatePems: string[]): string => certificatePems.map((p) => `${p.trim()}\n`).join('');
