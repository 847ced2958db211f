/** How long "X is typing…" stays after the last typing event from X. */
export const TYPING_SHOWN_MS = 3000;

/** Who is typing in which room, forgetting each person a few seconds after their last keystroke. */
export class TypingTracker {
  private readonly rooms = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(private readonly changed: (room: string) => void) {}

  seen(room: string, user: string): void {
    let users = this.rooms.get(room);
    if (users === undefined) {
      users = new Map();
      this.rooms.set(room, users);
    }
    const fresh = !users.has(user);
    clearTimeout(users.get(user));
    users.set(
      user,
      setTimeout(() => this.stop(room, user), TYPING_SHOWN_MS),
    );
    if (fresh) this.changed(room);
  }

  /** The person sent their message (or left): stop showing them at once. */
  stop(room: string, user: string): void {
    const users = this.rooms.get(room);
    const timer = users?.get(user);
    if (users === undefined || timer === undefined) return;
    clearTimeout(timer);
    users.delete(user);
    this.changed(room);
  }

  users(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])];
  }

  dispose(): void {
    for (const users of this.rooms.values())
      for (const timer of users.values()) clearTimeout(timer);
    this.rooms.clear();
  }
}
