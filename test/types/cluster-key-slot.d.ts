// cluster-key-slot (the hash-slot function ioredis's Cluster client uses) ships no types.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (CRC16 of the key or its {hash tag}, mod 16384). */
  export default function calculateSlot(key: string | Buffer): number;
}
