import { el, replaceChildren } from "../dom.ts";

/** Who is online in the room on screen. */
export class MemberList {
  readonly element: HTMLElement;
  private readonly title = el("h2", "panel-title");
  private readonly list = el("ul", "member-list");

  constructor(private readonly self: string) {
    this.element = el(
      "aside",
      { class: "members", attrs: { "aria-label": "Who is online" } },
      this.title,
      this.list,
    );
  }

  render(members: ReadonlySet<string>): void {
    const names = [...members].sort((a, b) =>
      a === this.self ? -1 : b === this.self ? 1 : a.localeCompare(b),
    );
    this.title.textContent = `Online — ${names.length}`;
    replaceChildren(
      this.list,
      ...names.map((name) =>
        el(
          "li",
          name === this.self ? "member self" : "member",
          el("span", { class: "presence-dot", attrs: { "aria-hidden": "true" } }),
          el("span", "member-name", name),
          name === this.self && el("span", "you", "(you)"),
        ),
      ),
    );
  }
}
