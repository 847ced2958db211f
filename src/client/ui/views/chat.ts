import { DEFAULT_ROOM } from "../../../protocol/index.ts";
import { type HttpApi, RoomMembers, SwitchboardClient } from "../../core/index.ts";
import { el, listen, replaceChildren } from "../dom.ts";
import { plural, typingText } from "../format.ts";
import { LocalOutboxStorage } from "../outbox-storage.ts";
import { loadRooms, saveRooms } from "../saved-rooms.ts";
import { Composer } from "./composer.ts";
import { MemberList } from "./member-list.ts";
import { MessageList } from "./message-list.ts";
import { RoomList } from "./room-list.ts";
import { StatusLine } from "./status-line.ts";
import { TypingTracker } from "./typing.ts";

const OLDER_PAGE = 50;

export interface ChatViewOptions {
  http: HttpApi;
  user: string;
  /** The session ended: `notice` says why when it was not this tab's logout. */
  onLoggedOut: (notice: string | undefined) => void;
}

/** The chat: rooms, messages, members, typing and the composer, driven by one client. */
export function mountChat(root: HTMLElement, options: ChatViewOptions): () => void {
  const { user } = options;
  const saved = loadRooms(user);
  const client = new SwitchboardClient({
    url: "",
    http: options.http,
    storage: new LocalOutboxStorage(user),
    rooms: saved.rooms,
  });
  let current = saved.current;
  let loggingOut = false;
  const unread = new Map<string, number>();
  /** Messages from others in the open room while the tab was in the background. */
  let unseenHere = 0;

  const status = new StatusLine();
  const logout = el("button", { class: "ghost", attrs: { type: "button" } }, "Log out");
  const roomTitle = el("h2", "room-title");
  const onlineCount = el("span", "online-count");
  const typingLine = el("p", { class: "typing", attrs: { "aria-live": "polite" } });
  const typing = new TypingTracker((room) => {
    if (room === current) typingLine.textContent = typingText(typing.users(room));
  });
  const members = new MemberList(user);
  const rooms = new RoomList({
    select: (room) => showRoom(room),
    join: async (room) => {
      if (client.rooms.has(room)) {
        showRoom(room);
        return undefined;
      }
      try {
        await client.join(room);
      } catch (error) {
        // A refused room is dropped by the client already; one that failed for another
        // reason (no answer) is forgotten too, so that joining it is up to the user.
        client.leave(room).catch(() => undefined);
        return `Couldn't join #${room}: ${error instanceof Error ? error.message : "unknown error"}`;
      }
      showRoom(room);
      return undefined;
    },
    leave: (room) => {
      client.leave(room).catch(() => undefined);
      unread.delete(room);
      if (room === current) showRoom(DEFAULT_ROOM);
      else renderRooms();
    },
  });
  const messages = new MessageList(user, {
    loadOlder: () => void loadOlder(),
    discard: (clientId) => client.discard(clientId),
    edit: (entry) => {
      client.discard(entry.clientId);
      composer.setText(entry.text);
    },
    retry: (entry) => {
      // A new clientId: the server refused the old one, so it holds nothing under it.
      client.discard(entry.clientId);
      client.send(entry.room, entry.text);
    },
  });
  // The limit is the server's, told in `ready`; until then the composer counts without judging.
  const composer = new Composer(client.limits?.maxMessageLength, {
    send: (text) => {
      client.send(current, text);
    },
    typing: () => client.typing(current),
  });

  const chat = el(
    "div",
    "chat",
    el(
      "header",
      "topbar",
      el(
        "h1",
        "brand small",
        el("span", { class: "brand-mark", attrs: { "aria-hidden": "true" } }, "⇄"),
        "Switchboard",
      ),
      status.element,
      el("div", "account", el("span", { class: "me", attrs: { title: "You" } }, user), logout),
    ),
    el(
      "div",
      "layout",
      rooms.element,
      el(
        "section",
        { class: "room", attrs: { "aria-label": "Conversation" } },
        el("header", "room-header", roomTitle, onlineCount),
        messages.element,
        typingLine,
        composer.element,
      ),
      members.element,
    ),
  );
  replaceChildren(root, chat);

  function renderRooms(): void {
    const names = [...client.rooms.keys()];
    rooms.render(names, current, unread);
    saveRooms(user, { rooms: names, current });
    renderTitle();
  }

  function renderTitle(): void {
    const total = [...unread.values()].reduce((sum, n) => sum + n, unseenHere);
    document.title = total > 0 ? `(${total}) Switchboard` : "Switchboard";
  }

  function renderMembers(): void {
    const view = client.rooms.get(current);
    const names = view?.members ?? new Set<string>();
    members.render(names);
    // The room's size, not the names loaded so far: a big room loads its names page by page.
    const count = names instanceof RoomMembers ? names.count : names.size;
    // While disconnected the list is what it was when the connection dropped: not a count to trust.
    onlineCount.textContent =
      client.status.state === "connected"
        ? `${plural(count, "person", "people")} online`
        : "offline";
  }

  function renderStatus(): void {
    status.render(client.status, client.outbox.sending().length);
    if (client.limits !== undefined) composer.setMaxLength(client.limits.maxMessageLength);
    chat.dataset.online = String(client.status.state === "connected");
    renderMembers();
  }

  function showRoom(room: string): void {
    const view = client.rooms.get(room) ?? client.rooms.get(DEFAULT_ROOM);
    if (view === undefined) return;
    current = view.name;
    const unseen = unread.get(current) ?? 0;
    unread.delete(current);
    roomTitle.replaceChildren(el("span", "hash", "#"), current);
    messages.showRoom(view, client.unsent(current), unseen);
    typingLine.textContent = typingText(typing.users(current));
    composer.setRoom(current);
    renderMembers();
    renderRooms();
    composer.focus();
  }

  async function loadOlder(): Promise<void> {
    const room = current;
    const view = client.rooms.get(room);
    if (view === undefined) return;
    messages.setOlder("loading");
    try {
      const older = await client.history(room, OLDER_PAGE);
      if (room !== current) return;
      messages.refresh(view, older.length === 0 ? "none" : undefined);
    } catch {
      if (room === current) messages.setOlder("error");
    }
  }

  const offs = [
    client.on("status", renderStatus),
    client.on("room", (view, change) => {
      if (!client.rooms.has(view.name)) return;
      for (const message of change.added) typing.stop(view.name, message.user);
      if (view.name === current) {
        if (change.reset) messages.showRoom(view, client.unsent(current));
        else {
          messages.append(change.added);
          if (document.visibilityState === "hidden") {
            unseenHere += change.added.filter((message) => message.user !== user).length;
            renderTitle();
          }
        }
        renderMembers();
      } else if (!change.reset) {
        const fresh = change.added.filter((message) => message.user !== user).length;
        if (fresh > 0) {
          unread.set(view.name, (unread.get(view.name) ?? 0) + fresh);
          renderRooms();
        }
      }
    }),
    client.on("presence", (event) => {
      if (event.state === "leave") typing.stop(event.room, event.user);
      if (event.room === current) renderMembers();
    }),
    client.on("typing", (event) => {
      if (event.user !== user && client.rooms.has(event.room)) typing.seen(event.room, event.user);
    }),
    client.on("outbox", renderStatus),
    client.on("unsent", (room, entries) => {
      if (room === current) messages.setOutbox(entries);
    }),
    client.on("logged-out", () => {
      options.onLoggedOut(
        loggingOut
          ? undefined
          : "You were logged out: your session ended or you logged out in another tab.",
      );
    }),
    listen(document, "visibilitychange", () => {
      if (document.visibilityState !== "visible" || unseenHere === 0) return;
      unseenHere = 0;
      renderTitle();
    }),
    listen(logout, "click", () => {
      loggingOut = true;
      logout.disabled = true;
      client.logout().catch(() => {
        // The server was not reached: still logged in there, so stay and reconnect.
        loggingOut = false;
        logout.disabled = false;
        client.start();
        status.note("Couldn't log out: the server is unreachable. Try again.");
      });
    }),
  ];

  showRoom(current);
  renderStatus();
  client.start();

  return () => {
    for (const off of offs) off();
    typing.dispose();
    client.close();
    document.title = "Switchboard";
  };
}
