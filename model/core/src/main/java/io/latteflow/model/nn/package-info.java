/**
 * Building blocks on SameDiff: graphs over one weight store, RoPE tables, the flat-memory execution session.
 * Internal.
 */
package io.latteflow.model.nn;
