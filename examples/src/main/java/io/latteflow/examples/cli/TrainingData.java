package io.latteflow.examples.cli;

import io.latteflow.model.data.CaptionedImage;
import io.latteflow.model.data.VqaSample;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code latte train} trains on: captioned images for generation, questions for understanding, and the text
 * the tokenizer is built from. The description identifies the data, so a resume can check it is the same.
 */
record TrainingData(String description, List<CaptionedImage> images, List<VqaSample> vqa) {
    static final String QUESTION = "what is this?";

    /** A folder of captioned PNGs; its one question is "what is this?", answered by the caption. */
    static TrainingData folder(Path dir) {
        TrainingSet set = TrainingSet.load(dir);
        List<CaptionedImage> images = new ArrayList<>();
        List<VqaSample> vqa = new ArrayList<>();
        for (TrainingSet.Example e : set.examples()) {
            images.add(new CaptionedImage(e.caption(), e.image(), -1));
            vqa.add(new VqaSample(e.image(), QUESTION, e.caption(), "name"));
        }
        return new TrainingData("folder " + dir.toAbsolutePath().normalize() + " (" + set.size() + " images)", images, vqa);
    }

    /** Every caption, question and answer. */
    List<String> corpus() {
        List<String> text = new ArrayList<>();
        images.forEach(i -> text.add(i.caption()));
        vqa.forEach(q -> {
            text.add(q.question());
            text.add(q.answer());
        });
        return text;
    }
}
