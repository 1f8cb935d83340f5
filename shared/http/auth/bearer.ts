/** `Authorization: Bearer <token>` → the token; undefined for any other scheme or shape. */
export function bearerToken(header: string): string | undefined {
  const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header);
  return m?.[1];
}
