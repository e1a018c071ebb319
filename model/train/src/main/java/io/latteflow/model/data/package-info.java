/**
 * The data sets training and evaluation read (emoji, Fashion-MNIST, MNIST, folders of PNGs) and the questions made
 * from them. Public API for training code; not needed for inference.
 */
package io.latteflow.model.data;
