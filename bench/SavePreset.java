// Saves a freshly initialised preset model (as `latte score --preset NAME --init-seed K` builds it) to a directory.
// Run with the latte jar on the class path (source-file mode): java -cp examples/target/latte.jar bench/SavePreset.java bench 0 /tmp/dir
import io.latteflow.model.LatteConfig;
import io.latteflow.model.LatteFlow;
import java.nio.file.Path;

public class SavePreset {
    public static void main(String[] args) throws Exception {
        try (LatteFlow flow = LatteFlow.create(LatteConfig.preset(args[0]), Long.parseLong(args[1]))) {
            flow.save(Path.of(args[2]));
        }
        System.out.println(args[2]);
    }
}
