/**
 * Apache Flink DataStream operators that serve a LaTtE-Flow model: micro-batched, checkpointed generation and
 * question answering with dead letters, typed options ({@link io.latteflow.flink.LatteOptions}) and one model per
 * TaskManager. Public API: {@code LatteStreams}, {@code LatteOptions} and the request/result types; the rest is internal.
 */
package io.latteflow.flink;
