/**
 * The streaming demo behind {@code latte demo}: a Flink job over the operators, its sinks and the HTML contact sheet.
 * Internal.
 */
package io.latteflow.examples.demo;
