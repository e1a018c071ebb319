/**
 * How the paper measures: FID, Inception Score and class accuracy in a classifier's feature space, and VQA accuracy.
 * Public API for evaluation code.
 */
package io.latteflow.model.eval;
