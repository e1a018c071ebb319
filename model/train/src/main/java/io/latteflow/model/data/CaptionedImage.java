package io.latteflow.model.data;

import java.awt.image.BufferedImage;

/**
 * One caption-image pair; label is a class index, or -1 when there is none.
 *
 * <pre>{@code
 * CaptionedImage pair = new CaptionedImage("grinning face, smile, happy", emoji.image(32), -1);
 * }</pre>
 */
public record CaptionedImage(String caption, BufferedImage image, int label) {}
