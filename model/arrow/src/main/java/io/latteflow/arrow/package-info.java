/**
 * Arrow batch scoring: Arrow IPC tables of prompts or of images and questions in, tables of images or answers out,
 * resumable. Public API: {@link io.latteflow.arrow.ArrowScorer} and its result; the rest is internal.
 */
package io.latteflow.arrow;
