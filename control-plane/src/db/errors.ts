/**
 * Postgres errors by SQLSTATE. drizzle wraps driver errors (the original is `cause`), and pg and
 * PGlite both carry `code`.
 */
export function sqlState(error: unknown): string | null {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** Errors the data causes (class 22 data exception, 23 integrity violation): retrying will not help. */
export function isDataError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}
