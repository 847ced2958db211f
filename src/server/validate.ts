import type { z } from "zod";
import { AppError, ErrorCode } from "../protocol/index.ts";
import { describeIssues } from "../protocol/schemas.ts";

/** Parses input against a protocol schema or throws `invalid_input` saying what was wrong. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new AppError(ErrorCode.InvalidInput, describeIssues(result.error));
  return result.data;
}
