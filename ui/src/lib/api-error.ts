/** An answer of the management API that is not a success, or no answer at all (status 0).
 * `field` is the OpenAI error's `param`: the config path of the field at fault
 * (`providers[2].baseUrl`), for a form to point at. `body` is the whole answer when it was an
 * OpenAI-shaped error, for a route whose error carries more (a test's attempts). */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null = null,
    readonly code: string | null = null,
    readonly body: unknown = null,
  ) {
    super(message);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** The error a failed answer carries: the OpenAI shape `{error: {message, param, code}}`, the
 * original 429chain's `{error: "<message>"}`, or, for any other body, its status. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const fallback = `The proxy answered ${response.status} ${response.statusText}`.trim() + ".";
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    return new ApiError(fallback, response.status);
  }
  const error = isRecord(body) ? body.error : undefined;
  if (typeof error === "string" && error !== "") {
    return new ApiError(error, response.status);
  }
  if (isRecord(error)) {
    const message = stringOrNull(error.message) ?? fallback;
    const param = stringOrNull(error.param);
    return new ApiError(message, response.status, param, stringOrNull(error.code), body);
  }
  return new ApiError(fallback, response.status);
}
