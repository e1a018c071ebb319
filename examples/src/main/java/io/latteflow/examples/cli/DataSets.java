package io.latteflow.examples.cli;

import io.latteflow.model.LatteConfig;
import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.data.DataException;
import io.latteflow.model.data.DataRoot;
import io.latteflow.model.data.Emoji;
import io.latteflow.model.data.EmojiCaptions;
import io.latteflow.model.data.EmojiQuestions;
import io.latteflow.model.data.EmojiSet;
import io.latteflow.model.data.FashionMnist;
import io.latteflow.model.data.LabeledImages;
import io.latteflow.model.data.Mnist;
import io.latteflow.model.data.Split;
import io.latteflow.model.data.VqaSample;

import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/** The fetched data sets {@code latte train --data} knows, by name. */
final class DataSets {
    static final String NAMES = "emoji (both styles), emoji-google, emoji-twitter, fashion, mnist";
    /** Canvases of 2-4 emoji per style for the counting and left-of questions. */
    private static final int CANVASES = 2000;

    private DataSets() {
    }

    static TrainingData load(String name, Path dataDir, LatteConfig config) {
        Path root = dataDir != null ? dataDir : DataRoot.resolve().dir();
        try {
            return switch (name) {
                case "fashion" -> classes(FashionMnist.load(root, Split.TRAIN), "fashion-mnist train");
                case "mnist" -> classes(Mnist.load(root, Split.TRAIN), "mnist train");
                case "emoji" -> emoji(root, config, EmojiSet.STYLES);
                case "emoji-google" -> emoji(root, config, List.of("google"));
                case "emoji-twitter" -> emoji(root, config, List.of("twitter"));
                default -> throw new CliError("Unknown data set '" + name + "'; known: " + NAMES);
            };
        } catch (DataException e) {
            throw new CliError(e.getMessage(), e);
        }
    }

    /**
     * The training emoji (held-out ones excluded) of the given styles: one caption per image, and every question
     * about each image plus counting and position questions on canvases. With two styles captions name the style.
     */
    private static TrainingData emoji(Path root, LatteConfig config, List<String> styles) {
        List<CaptionedImage> images = new ArrayList<>();
        List<VqaSample> vqa = new ArrayList<>();
        EmojiCaptions captions = new EmojiCaptions(0, styles.size() > 1);
        EmojiQuestions questions = new EmojiQuestions(0, config.imageSize());
        for (String style : styles) {
            List<Emoji> train = EmojiSet.load(root, style).train();
            images.addAll(captions.pairs(train, config.genImageSize()));
            vqa.addAll(questions.samples(train, CANVASES));
        }
        return new TrainingData("emoji " + String.join("+", styles) + " training split (" + images.size() + " images, "
                + vqa.size() + " questions)", images, vqa);
    }

    /** A class-labelled set: class captions for generation, "what is this?" answered by the class name. */
    private static TrainingData classes(LabeledImages set, String description) {
        List<CaptionedImage> images = set.captioned();
        List<VqaSample> vqa = new AbstractList<>() {
            @Override
            public VqaSample get(int i) {
                CaptionedImage c = images.get(i);
                return new VqaSample(c.image(), TrainingData.QUESTION, set.classNames().get(c.label()), "class");
            }

            @Override
            public int size() {
                return images.size();
            }
        };
        return new TrainingData(description + " (" + set.size() + " images)", images, vqa);
    }
}
