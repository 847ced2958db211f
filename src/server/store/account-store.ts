import type { Keys } from "./keys.ts";
import type { SendCommand } from "./lua-script.ts";

/** What is kept of an account: never the password, only its scrypt hash. */
export interface AccountRecord {
  /** The name as the user first typed it. */
  name: string;
  /** base64 */
  salt: string;
  /** base64 */
  hash: string;
  createdAt: number;
}

export class AccountStore {
  constructor(
    private readonly send: SendCommand,
    private readonly keys: Keys,
  ) {}

  /** Creates the account unless the name (in any letter case) is taken. */
  async create(record: AccountRecord): Promise<boolean> {
    const key = this.keys.account(record.name);
    const reply = await this.send<string | null>(["SET", key, JSON.stringify(record), "NX"], key);
    return reply === "OK";
  }

  async find(username: string): Promise<AccountRecord | undefined> {
    const key = this.keys.account(username);
    const json = await this.send<string | null>(["GET", key], key);
    return json === null ? undefined : (JSON.parse(json) as AccountRecord);
  }
}
