import { type Request, type Response, Router } from "express";
import {
  AppError,
  type AuthResponse,
  ErrorCode,
  type SessionProbeResponse,
  type SessionResponse,
} from "../../protocol/index.ts";
import { credentialsSchema } from "../../protocol/schemas.ts";
import { decoyHash, hashPassword, verifyPassword } from "../auth/passwords.ts";
import type { AccountStore } from "../store/account-store.ts";
import { parseInput } from "../validate.ts";
import { type AuthLimits, checkNameLock, perAddressLimit } from "./auth-limits.ts";

export interface AuthRoutesDeps {
  limits: AuthLimits;
  accounts: AccountStore;
  instanceId: string;
  /** Ends every socket of the session, on every instance. */
  endSessionSockets: (sessionId: string) => void;
}

/** Swaps the session id (no fixation: an id known before login is useless after it). */
function startSession(req: Request, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session.regenerate((error: unknown) => {
      if (error) {
        reject(error);
        return;
      }
      req.session.user = { name };
      req.session.save((saveError: unknown) => (saveError ? reject(saveError) : resolve()));
    });
  });
}

export function authRoutes(deps: AuthRoutesDeps): Router {
  const router = Router();

  const { limits } = deps;
  const perAddress = perAddressLimit(limits);

  router.post("/register", perAddress, async (req: Request, res: Response<AuthResponse>) => {
    const { username, password } = parseInput(credentialsSchema, req.body);
    await checkNameLock(limits, username);
    const { salt, hash } = await hashPassword(password);
    const created = await deps.accounts.create({
      name: username,
      salt,
      hash,
      createdAt: Date.now(),
    });
    if (!created) {
      // Probing names by registering them counts against the name, like a failed login.
      await limits.store.recordAuthFailure(username, limits.failuresBeforeLock);
      throw new AppError(ErrorCode.UsernameTaken, `the name ${username} is taken`);
    }
    await startSession(req, username);
    res.status(201).json({ user: { name: username } });
  });

  router.post("/login", perAddress, async (req: Request, res: Response<AuthResponse>) => {
    const { username, password } = parseInput(credentialsSchema, req.body);
    await checkNameLock(limits, username);
    const account = await deps.accounts.find(username);
    // An unknown name costs one scrypt too, so timing does not tell which names exist.
    const ok = await verifyPassword(password, account ?? (await decoyHash));
    if (account === undefined || !ok) {
      await limits.store.recordAuthFailure(username, limits.failuresBeforeLock);
      throw new AppError(ErrorCode.InvalidCredentials, "wrong username or password");
    }
    await limits.store.clearAuthFailures(username);
    await startSession(req, account.name);
    res.status(200).json({ user: { name: account.name } });
  });

  router.post("/logout", async (req: Request, res: Response) => {
    const sessionId = req.session.user === undefined ? undefined : req.sessionID;
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((error: unknown) => (error ? reject(error) : resolve())),
    );
    if (sessionId !== undefined) deps.endSessionSockets(sessionId);
    res.clearCookie(req.app.get("sessionCookieName") as string, { path: "/" });
    res.status(204).end();
  });

  router.get("/session", (req: Request, res: Response<SessionResponse | SessionProbeResponse>) => {
    const user = req.session.user;
    // `?probe=1` is the page's own question "am I logged in?": "no" is an answer, not an error
    // (a 401 would be logged in the browser's console on every visit of the login page).
    if (user === undefined && req.query.probe === "1") {
      res.json({ user: null });
      return;
    }
    if (user === undefined) throw new AppError(ErrorCode.Unauthorized, "not logged in");
    res.json({ user, instance: deps.instanceId });
  });

  return router;
}
