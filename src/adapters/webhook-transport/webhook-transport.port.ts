import ipaddr from 'ipaddr.js';

// POSTs one signed webhook to a receiver. The driver connects only to addresses addressRefusal allows,
// checked on the address it actually connects to, so a name that resolves to a metadata address later
// (DNS rebinding) is refused too.

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** The ADMIN allowed this host on private and loopback addresses. */
  allowPrivateNetwork: boolean;
  timeoutMs: number;
}

export interface WebhookResponse {
  status: number;
}

export interface WebhookTransport {
  /** Resolves with the receiver's status (any status); rejects when no answer came (refused address, network, timeout). */
  send(request: WebhookRequest): Promise<WebhookResponse>;
  close(): Promise<void>;
}

export class WebhookAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAddressError';
  }
}

// Cloud metadata services outside the link-local range (AWS IPv6, Alibaba).
const METADATA = new Set(['fd00:ec2::254', '100.100.100.200']);
// Everything but plain unicast and the private ranges: special-purpose, and IPv6 forms that embed an IPv4 address.
const NEVER = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'reserved',
  'benchmarking',
  'amt',
  'as112',
  'as112v6',
  'orchid2',
  'discard',
  'deprecated',
  'rfc6145',
  'rfc6052',
  '6to4',
  'teredo',
]);
const PRIVATE = new Set(['loopback', 'private', 'uniqueLocal', 'carrierGradeNat']);

/** Why a receiver at `address` is refused, or null when it is allowed. */
export function addressRefusal(address: string, allowPrivateNetwork: boolean): string | null {
  if (!ipaddr.isValid(address)) return `${address} is not an IP address`;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const normal = ip.toNormalizedString();
  const range = ip.range();
  if (METADATA.has(normal) || METADATA.has(ip.toString())) return `${address} is a cloud metadata address`;
  if (NEVER.has(range)) return `${address} is a ${range} address`;
  if (PRIVATE.has(range) && !allowPrivateNetwork) return `${address} is a ${range} address and its host is not allowed on private networks`;
  return null;
}
