package io.latteflow.model.data;

import java.awt.image.BufferedImage;

/**
 * One question about an image with its expected answer and the question type (e.g. "name", "category", "count").
 *
 * <pre>{@code
 * VqaSample s = new VqaSample(emoji.image(32), "what is this?", "grinning face", "name");
 * }</pre>
 */
public record VqaSample(BufferedImage image, String question, String answer, String type) {}
