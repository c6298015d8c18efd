/**
 * A signed token (`body.mac`, src/uploads/signed-token.ts) with its MAC's first character changed. Changing its last
 * characters, as tests once did, can leave the MAC's bytes as they were (the last base64url character carries bits the
 * decoder ignores), so that tampering passed now and then.
 */
export function tamperedToken(token: string): string {
  const [body, mac, ...rest] = token.split('.');
  if (!mac || rest.length) throw new Error(`not a signed token: ${token}`);
  return `${body}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`;
}
