/**
 * The subcommands of {@code latte} (generate, ask, init-couple, train, score, eval, bench, demo, ...), each a picocli
 * command that maps bad input to one line and exit code 2. Internal: the command line is the interface, not these classes.
 */
package io.latteflow.examples.cli;
