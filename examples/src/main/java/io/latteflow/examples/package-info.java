/**
 * The {@code latte} command line: its entry point and exit codes. Internal to the examples artifact; not API.
 */
package io.latteflow.examples;
