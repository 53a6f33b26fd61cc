/**
 * The raw baseline of `gsr endpoints`: a script on the etcd3 client alone that lists a prefix's
 * addresses, one per line, and exits. `node rawEndpointsCli.js <endpoints> <prefix>`.
 */
import { Etcd3 } from 'etcd3';

async function main(): Promise<void> {
  const [endpoints = '', prefix = ''] = process.argv.slice(2);
  const client = new Etcd3({ hosts: endpoints.split(',') });
  const keys = await client.getAll().prefix(prefix).keys();
  process.stdout.write(keys.map((key) => `${key.slice(prefix.length)}\n`).join(''));
  client.close();
}

void main();
