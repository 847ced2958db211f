/**
 * A tiny DOM builder. Every string becomes a text node, so user data can never
 * turn into markup; there is deliberately no way to pass HTML.
 */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Plain attributes (ids, types, aria-*); never event handlers or styles. */
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | string = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  const { class: className, attrs } = typeof props === "string" ? { class: props } : props;
  if (className !== undefined && className !== "") element.className = className;
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (/^on/i.test(name) || name === "style") throw new Error(`refusing attribute ${name}`);
    element.setAttribute(name, value);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Shows or hides an element through the `hidden` attribute (styled in app.css). */
export function show(element: HTMLElement, visible: boolean): void {
  element.hidden = !visible;
}

/** Listens and returns the function that stops listening. */
export function listen<K extends keyof DocumentEventMap>(
  target: Document,
  type: K,
  listener: (event: DocumentEventMap[K]) => void,
): () => void;
export function listen<K extends keyof HTMLElementEventMap>(
  target: HTMLElement,
  type: K,
  listener: (event: HTMLElementEventMap[K]) => void,
): () => void;
export function listen(
  target: EventTarget,
  type: string,
  listener: (event: never) => void,
): () => void {
  const handler = listener as unknown as EventListener;
  target.addEventListener(type, handler);
  return () => target.removeEventListener(type, handler);
}
