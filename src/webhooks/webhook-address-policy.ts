import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Addresses no webhook may reach whatever the configuration: unspecified, link-local and the cloud
 * metadata services (169.254.169.254, fd00:ec2::254), multicast, broadcast and reserved ranges.
 */
const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addSubnet('224.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('240.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addAddress('::', 'ipv6');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');
ALWAYS_BLOCKED.addSubnet('ff00::', 8, 'ipv6');

/** Loopback and private networks: where self-hosted receivers usually live; refused only when configured so. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

export type AddressVerdict = 'allowed' | 'blocked' | 'private';

/** How the policy sees one IP address; IPv4-mapped IPv6 addresses are judged as the IPv4 address. */
export function classifyAddress(address: string): AddressVerdict {
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(address);
  const ip = mapped ? mapped[1] : address;
  const family = isIP(ip) === 4 ? 'ipv4' : isIP(ip) === 6 ? 'ipv6' : undefined;
  if (!family || ALWAYS_BLOCKED.check(ip, family)) {
    return 'blocked';
  }
  return PRIVATE.check(ip, family) ? 'private' : 'allowed';
}

export function isAddressPermitted(address: string, allowPrivate: boolean): boolean {
  const verdict = classifyAddress(address);
  return verdict === 'allowed' || (verdict === 'private' && allowPrivate);
}

export class AddressRefusedError extends Error {
  readonly code = 'EADDRREFUSED_BY_POLICY';
  constructor(hostname: string, address: string) {
    super(`${hostname} resolves to ${address}, which webhooks may not reach`);
    this.name = 'AddressRefusedError';
  }
}

/**
 * A `lookup` for http.request that checks the address the socket will connect to, after DNS: a
 * name that resolves (or later re-resolves) to a refused address is caught at connect time.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 4);
        return;
      }
      const permitted = addresses.filter((entry) => isAddressPermitted(entry.address, allowPrivate));
      if (permitted.length === 0) {
        callback(new AddressRefusedError(hostname, addresses[0]?.address ?? 'nothing'), '', 4);
        return;
      }
      if (options.all) {
        (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, permitted);
      } else {
        callback(null, permitted[0].address, permitted[0].family);
      }
    });
  };
}
