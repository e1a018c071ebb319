/**
 * The Flink Table/SQL model provider: {@code ML_PREDICT} over a LaTtE-Flow model with {@code 'provider' = 'latte-flow'}.
 * Public API: the factory's options ({@code LatteFlowModelOptions}); the rest is internal.
 */
package io.latteflow.flink.table;
