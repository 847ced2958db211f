import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt parameters: N=2^14, r=8, p=1 (the OWASP minimum), 64-byte key. */
const PARAMS: ScryptOptions = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 64;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, KEY_LENGTH, PARAMS, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });
}

export async function hashPassword(password: string): Promise<{ salt: string; hash: string }> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt);
  return { salt: salt.toString("base64"), hash: hash.toString("base64") };
}

/** Constant-time comparison of the derived key. */
export async function verifyPassword(
  password: string,
  stored: { salt: string; hash: string },
): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const actual = await derive(password, Buffer.from(stored.salt, "base64"));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A hash to check against when the user does not exist, so that an unknown
 * name takes as long to refuse as a wrong password.
 */
export const decoyHash = hashPassword(randomBytes(16).toString("hex"));
