import { z } from "zod";

/**
 * How a program's settings are read from the environment: each setting is
 * declared once, as the variable it comes from and the schema that checks it
 * (with its default), and its type is derived from that schema. The
 * instance (`src/server/config.ts`) and the supervisor
 * (`src/cluster/config.ts`) each keep a table of such settings; the ones
 * they share are declared here.
 */

/** One setting: the environment variable it is read from, and its schema. */
export interface EnvOption<S extends z.ZodType = z.ZodType> {
  readonly variable: string;
  readonly schema: S;
}

export type EnvOptions = Record<string, EnvOption>;

/**
 * The values a table of settings reads as, key by key. A homomorphic mapped
 * type, so that each key keeps the documentation written on the table.
 */
export type EnvSettings<T extends EnvOptions> = {
  -readonly [K in keyof T]: z.output<T[K]["schema"]>;
};

export function fromEnv<S extends z.ZodType>(variable: string, schema: S): EnvOption<S> {
  return { variable, schema };
}

/** A whole number within bounds, whose errors name the variable. */
const boundedInteger = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int(`${name} must be an integer`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`);

/** An integer setting read from `variable`, with bounds and a default; its errors name the variable. */
export const integerEnv = (variable: string, fallback: number, min: number, max: number) =>
  fromEnv(variable, boundedInteger(variable, min, max).default(fallback));

/** An integer setting with bounds and no default (its default depends on another setting). */
export const optionalIntegerEnv = (variable: string, min: number, max: number) =>
  fromEnv(variable, boundedInteger(variable, min, max).optional());

/** A comma-separated list (empty by default) whose every item must match. */
export const commaList = (item: RegExp, message: string) =>
  z
    .string()
    .default("")
    .transform((raw) =>
      raw
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== ""),
    )
    .pipe(z.array(z.string().regex(item, message)));

/** A name made of letters, digits, `_`, `.` and `-`, as Redis names and cookie names are. */
export const plainName = (message: string, maxLength = 64) =>
  z.string().regex(new RegExp(`^[A-Za-z0-9_.-]{1,${maxLength}}$`), message);

/**
 * Settings the supervisor and every instance both read, with the same
 * variable and the same rules. Each program documents what the setting means
 * to it where it lists it.
 */
export const sharedEnv = {
  port: integerEnv("PORT", 3000, 0, 65535),
  host: fromEnv("HOST", z.string().min(1).optional()),
  redisUrl: fromEnv(
    "REDIS_URL",
    z
      .string()
      .regex(/^rediss?:\/\//, "REDIS_URL must start with redis:// or rediss://")
      .optional(),
  ),
  sessionSecret: fromEnv(
    "SESSION_SECRET",
    z.string().min(16, "SESSION_SECRET must be at least 16 characters").optional(),
  ),
  sessionCookieName: fromEnv(
    "SESSION_COOKIE_NAME",
    plainName("SESSION_COOKIE_NAME must be a plain cookie name").default("JSESSIONID"),
  ),
  drainTimeoutMs: integerEnv("DRAIN_TIMEOUT_MS", 10_000, 0, 600_000),
} as const;

/** The one shape of a configuration error: every problem on a line of its own. */
export function configProblems(problems: readonly string[]): string {
  return `invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`;
}

function blankToUndefined(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== "") out[key] = value;
  }
  return out;
}

/**
 * Reads every setting of the table from `env` at once; throws what `fail`
 * makes of a message naming every wrong setting. With `blankIsUnset`, a
 * variable set to "" counts as not set (a shell's `VAR= npm start`).
 */
export function readEnv<T extends EnvOptions>(
  options: T,
  env: NodeJS.ProcessEnv,
  fail: (message: string) => Error,
  { blankIsUnset = false }: { blankIsUnset?: boolean } = {},
): EnvSettings<T> {
  const shape: Record<string, z.ZodType> = {};
  for (const option of Object.values(options)) shape[option.variable] = option.schema;
  const parsed = z.object(shape).safeParse(blankIsUnset ? blankToUndefined(env) : env);
  if (!parsed.success) throw fail(configProblems(parsed.error.issues.map((i) => i.message)));
  const settings: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(options)) {
    settings[key] = parsed.data[option.variable];
  }
  // Built key by key from the table whose schemas the type is derived from.
  return settings as EnvSettings<T>;
}
