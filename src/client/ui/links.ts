/**
 * Links in a message, made clickable without ever treating the text as
 * markup: the text is split into text nodes and `<a>` elements whose `href`
 * is set only after `URL` parsed it as http or https.
 */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+/gi;
/** Punctuation that ends a sentence rather than the address. */
const TRAILING = /[.,;:!?)\]}]+$/;

function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function linkified(text: string): Node[] {
  const nodes: Node[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const start = match.index;
    let raw = match[0];
    const trailing = TRAILING.exec(raw);
    if (trailing !== null) raw = raw.slice(0, raw.length - trailing[0].length);
    const href = safeHref(raw);
    if (href === undefined || raw === "") continue;
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)));
    const link = document.createElement("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    link.textContent = raw;
    nodes.push(link);
    at = start + raw.length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}
