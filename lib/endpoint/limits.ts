/**
 * How big an endpoint may be. Registration refuses more with a ValidationError naming the limit, and
 * discovery skips (or lists without metadata) what others wrote beyond it. The limits keep a key and its
 * value far under etcd's default request limit (1.5 MiB), so that a transaction of many registrations
 * still fits, and keep a hostile value from costing every client megabytes.
 */

/** The longest service name or address, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 512;

/** The largest metadata, as JSON, in UTF-8 bytes. */
export const MAX_METADATA_BYTES = 64 * 1024;

/** The deepest metadata nesting: the metadata object itself is level 1. */
export const MAX_METADATA_DEPTH = 32;
