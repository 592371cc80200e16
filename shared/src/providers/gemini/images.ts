import { GatewayError } from '../../errors.ts';

/** Image types Gemini documents, by file extension, for https URLs (a data URL names its own). */
const IMAGE_TYPES: Readonly<Record<string, string>> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', heic: 'image/heic', heif: 'image/heif' };

/**
 * A canonical image into a Gemini part.
 * - `data:<type>;base64,<data>` becomes `inlineData` (mimeType + data), the data passed as is.
 * - `https://` URLs become `fileData` with the URL as `fileUri`: besides Files-API and GCS URIs,
 *   Gemini fetches public and pre-signed https URLs itself (supported since January 2026; older
 *   models such as the 2.0 family may refuse them, which Google reports as a 400). The mimeType is
 *   taken from the path's extension when it is a documented image type, else left for Gemini to
 *   detect. The gateway never fetches the URL.
 * - Anything else (plain http, a data URL that is not base64) is refused before any call, with a
 *   400 the client can act on, rather than sent for Google to refuse.
 * The canonical `detail` has no per-part equivalent in Gemini and is not sent.
 */
export function imagePart(url: string, param: string): Record<string, unknown> {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = comma === -1 ? [] : url.slice('data:'.length, comma).split(';');
    const mimeType = meta[0]?.trim().toLowerCase() ?? '';
    if (mimeType === '' || !meta.slice(1).some((p) => p.trim().toLowerCase() === 'base64')) {
      throw new GatewayError('unsupported_parameter', 'Images for Gemini models must be https URLs or base64 data URLs with a media type.', param);
    }
    return { inlineData: { mimeType, data: url.slice(comma + 1) } };
  }
  if (url.startsWith('https://')) {
    const mimeType = typeOfPath(url);
    return { fileData: { ...(mimeType !== null ? { mimeType } : {}), fileUri: url } };
  }
  throw new GatewayError('unsupported_parameter', 'Images for Gemini models must be https URLs or base64 data URLs; plain http URLs are not fetched.', param);
}

function typeOfPath(url: string): string | null {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return null;
  }
  const dot = path.lastIndexOf('.');
  return dot === -1 ? null : (IMAGE_TYPES[path.slice(dot + 1).toLowerCase()] ?? null);
}
