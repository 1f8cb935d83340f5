/** The message of anything thrown: an Error's message, or its string form. The one copy of this helper. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
