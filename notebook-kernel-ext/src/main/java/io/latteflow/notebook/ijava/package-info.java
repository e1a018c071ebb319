/**
 * LaTtE-Flow in the IJava kernel (SpencerPark's, on jupyter-jvm-basekernel 2.3.0): renderers, {@code %latte} magics
 * and live progress. Internal: reached through {@code LatteNotebook.installIJava()}; IJava stays an optional dependency.
 */
package io.latteflow.notebook.ijava;
