/**
 * Training: the understanding and generation trainers, Adam, EMA and resumable training runs. Public API for
 * training code.
 */
package io.latteflow.model.train;
