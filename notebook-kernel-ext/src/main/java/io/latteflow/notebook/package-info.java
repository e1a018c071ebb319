/**
 * The Jupyter Java-kernel extension: {@code %latte} magics, renderers for images, answers and grids, and the session
 * a notebook works in. Public API: {@code LatteNotebook}, {@code LatteSession}; the rest is internal.
 */
package io.latteflow.notebook;
