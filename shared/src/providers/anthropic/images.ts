/** The image media types Anthropic accepts in a base64 source. */
export const ANTHROPIC_IMAGE_TYPES: readonly string[] = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

/**
 * A canonical image URL as an Anthropic image source: a base64 `data:` URL becomes a base64 source
 * (media type without parameters), anything else a URL source. A `data:` URL that is not base64 is
 * sent as a URL too: Anthropic refuses it with a 400 the client can read, where guessing an
 * encoding here could send a different image.
 */
export function imageSource(url: string): AnthropicImageSource {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const meta = comma === -1 ? '' : url.slice('data:'.length, comma);
    if (meta.endsWith(';base64')) {
      const semicolon = meta.indexOf(';');
      return { type: 'base64', media_type: meta.slice(0, semicolon), data: url.slice(comma + 1) };
    }
  }
  return { type: 'url', url };
}

/** An Anthropic base64 source as the canonical `data:` URL. */
export function dataUrl(mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`;
}
