/**
 * Throw from a request handler to answer with this HTTP status instead of 500, for example
 * `throw new HttpError(403, "bad origin")`. Works before `acceptWebsocket()` only.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
