import {
  byokCredentialAad,
  channelCredentialAad,
  CredentialFormatError,
  decodeCredential,
  encodeCredential,
  openSecret,
  parseCredential,
  providerBaseUrl,
  providerInfo,
  sealSecret,
  type Credential,
  type ProviderId,
} from '@tollgate/shared';
import { ValidationError } from '../errors.ts';

/**
 * The one place credentials are validated, sealed and opened. A credential is sealed bound to its
 * owner (a channel, or an org and credential id), so a sealed value copied to another row, and in
 * particular to another org, fails to open.
 */
export function credentialInput(provider: ProviderId, text: string, field = 'credential'): Credential {
  try {
    return parseCredential(provider, text);
  } catch (error) {
    // parseCredential's messages describe the expected shape and never repeat the submitted text.
    // A plain key is the credential itself; a JSON credential's fields are named under it.
    if (error instanceof CredentialFormatError) {
      throw new ValidationError(error.message, error.field && providerInfo(provider).credential !== 'api_key' ? `${field}.${error.field}` : field);
    }
    throw error;
  }
}

/** Where a provider's API lives for a credential (shared with the data plane). */
export const defaultBaseUrl = providerBaseUrl;

export function sealChannelCredential(masterKey: Buffer, channelId: string, credential: Credential): string {
  return sealSecret(masterKey, encodeCredential(credential), channelCredentialAad(channelId));
}

export function openChannelCredential(masterKey: Buffer | readonly Buffer[], channelId: string, sealed: string): Credential {
  return decodeCredential(openSecret(masterKey, sealed, channelCredentialAad(channelId)));
}

export function sealByokCredential(masterKey: Buffer, orgId: string, credentialId: string, credential: Credential): string {
  return sealSecret(masterKey, encodeCredential(credential), byokCredentialAad(orgId, credentialId));
}

export function openByokCredential(masterKey: Buffer | readonly Buffer[], orgId: string, credentialId: string, sealed: string): Credential {
  return decodeCredential(openSecret(masterKey, sealed, byokCredentialAad(orgId, credentialId)));
}
