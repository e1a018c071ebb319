/**
 * LaTtE-Flow's facade: load or create a model ({@link io.latteflow.model.LatteFlow}), draw images from captions and
 * answer questions about images, with its requests, results and configuration. Public API.
 */
package io.latteflow.model;
