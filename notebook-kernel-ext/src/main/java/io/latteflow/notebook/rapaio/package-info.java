/**
 * The rapaio Jupyter kernel's display provider for LaTtE-Flow results. Internal (found through its service file).
 */
package io.latteflow.notebook.rapaio;
