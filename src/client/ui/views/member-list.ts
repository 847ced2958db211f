import { RoomMembers } from "../../core/index.ts";
import { el, replaceChildren } from "../dom.ts";

/** How close to the bottom of the list (px) the next page of members is fetched. */
const LOAD_MARGIN_PX = 200;

/**
 * Who is online in the room on screen: the room's count, and the names
 * loaded so far. A big room's names come a page at a time; the next page is
 * fetched when the list is scrolled near its end.
 */
export class MemberList {
  readonly element: HTMLElement;
  private readonly title = el("h2", "panel-title");
  private readonly list = el("ul", "member-list");
  private readonly more = el("p", "member-more");
  private shown: ReadonlySet<string> | undefined;
  private unwatch: (() => void) | undefined;
  private loading = false;

  constructor(private readonly self: string) {
    this.element = el(
      "aside",
      { class: "members", attrs: { "aria-label": "Who is online" } },
      this.title,
      this.list,
      this.more,
    );
    this.element.addEventListener("scroll", () => this.loadIfNearEnd(), { passive: true });
  }

  render(members: ReadonlySet<string>): void {
    if (members !== this.shown) {
      this.unwatch?.();
      this.unwatch =
        members instanceof RoomMembers ? members.watch(() => this.render(members)) : undefined;
      this.shown = members;
    }
    const names = [...members].sort((a, b) =>
      a === this.self ? -1 : b === this.self ? 1 : a.localeCompare(b),
    );
    const count = members instanceof RoomMembers ? members.count : names.length;
    const complete = !(members instanceof RoomMembers) || members.complete;
    this.title.textContent = `Online — ${count}`;
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
    this.more.hidden = complete;
    this.more.textContent = complete ? "" : `${Math.max(0, count - names.length)} more…`;
    if (!complete) queueMicrotask(() => this.loadIfNearEnd());
  }

  /** Fetches the next page when the end of the list is in view (or the list does not fill the panel). */
  private loadIfNearEnd(): void {
    const members = this.shown;
    if (!(members instanceof RoomMembers) || members.complete || this.loading) return;
    const { scrollTop, clientHeight, scrollHeight } = this.element;
    if (scrollTop + clientHeight < scrollHeight - LOAD_MARGIN_PX) return;
    this.loading = true;
    this.more.textContent = "Loading…";
    members.loadMore().then(
      () => {
        this.loading = false;
        // The page may still leave the panel unfilled.
        this.loadIfNearEnd();
      },
      () => {
        // Offline or refused: scrolling again tries again.
        this.loading = false;
        this.more.textContent = "Couldn't load more; scroll to try again.";
      },
    );
  }
}
