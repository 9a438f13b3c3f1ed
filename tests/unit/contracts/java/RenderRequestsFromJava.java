// What a Spring service would write with the classes quicktype generates from `reelflow contracts export`
// (codegen.schema.json). test_contracts_in_other_languages.py compiles it with them against Debian's Jackson,
// and reelflow's Pydantic contract must accept every line it prints.
//
//   build          one lesson and one ranking rf.render.requested body, built field by field
//   echo FILE...   each body (a reelflow event) read into the generated classes, then written again
//
// quicktype's own Converter.java is not compiled: Debian's jackson-databind 2.14.0 declares
// ObjectWriter.writeValueAsString as throwing IOException beside JsonProcessingException, which its
// `throws JsonProcessingException` does not cover. A Spring service binds with its own ObjectMapper anyway.
package org.example.reelflow;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

public final class RenderRequestsFromJava {
    private RenderRequestsFromJava() {}

    /**
     * The mapper a Spring service would use: unset fields are left out (Spring Boot's
     * spring.jackson.default-property-inclusion=non_null), since reelflow refuses null for a field that has a
     * default but is not nullable (fps, title…). Dates are ISO 8601 with an offset, as jackson-datatype-jsr310
     * reads and writes them (Debian does not package that module, so these are the two parts of it reelflow needs).
     */
    static ObjectMapper wireMapper() {
        SimpleModule isoDates = new SimpleModule();
        isoDates.addSerializer(OffsetDateTime.class, new JsonSerializer<OffsetDateTime>() {
            @Override
            public void serialize(OffsetDateTime value, JsonGenerator generator, SerializerProvider provider)
                    throws IOException {
                generator.writeString(value.format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            }
        });
        isoDates.addDeserializer(OffsetDateTime.class, new JsonDeserializer<OffsetDateTime>() {
            @Override
            public OffsetDateTime deserialize(JsonParser parser, DeserializationContext context) throws IOException {
                return OffsetDateTime.parse(parser.getText(), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            }
        });
        return new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL).registerModule(isoDates);
    }

    static LessonRenderRequested lessonRequest() {
        Scene first = new Scene();
        first.setSceneID("ch1-s1");
        first.setNarration("Phishing is a scam in which someone pretends to be a trusted company.");
        first.setOnScreenText("Phishing: a scam");
        first.setDurationSEC(4.5);
        Scene second = new Scene();
        second.setSceneID("ch1-s2");
        second.setNarration("Slow down before you click.");
        Chapter chapter = new Chapter();
        chapter.setChapterID("ch1");
        chapter.setTitle("What is phishing?");
        chapter.setScenes(List.of(first, second));
        VideoScript script = new VideoScript();
        script.setChapters(List.of(chapter));

        Voice voice = new Voice();
        voice.setVoice("en-us");
        voice.setRate(1.1);
        voice.setLexicon(Map.of("SQL", "sequel"));
        PublishTarget publish = new PublishTarget();
        publish.setTitle("What is phishing?");
        publish.setTags(List.of("security"));
        publish.setPrivacy(Privacy.PRIVATE);
        publish.setPublishAt(OffsetDateTime.of(2025, 3, 1, 9, 30, 0, 0, ZoneOffset.ofHours(9)));

        LessonSpec spec = new LessonSpec();
        spec.setTemplate(LessonTemplate.LESSON);
        spec.setTitle("What is phishing?");
        spec.setLanguage("en");
        spec.setScript(script);
        spec.setVoice(voice);
        spec.setVisualStyle(VisualStyle.ANIMATED);
        spec.setSize("1920x1080");
        spec.setFPS(25L);
        spec.setSubtitles(SubtitleMode.SIDECAR);
        spec.setPublish(publish);
        spec.setCallbackURL("https://backend.example.com/hooks/render");

        LessonRenderRequested request = new LessonRenderRequested();
        request.setJobID("job-java-lesson");
        request.setVideoID("video-42");
        request.setScriptID("script-9");
        request.setAttempt(1L);
        request.setSpec(spec);
        return request;
    }

    static RankingRenderRequested rankingRequest() {
        RankingClip second = new RankingClip();
        second.setMediaKey("uploads/" + "1".repeat(64) + ".mp4");
        second.setRank(2);
        second.setLabel("Fake invoice");
        second.setStart(0.0);
        second.setEnd(4.0);
        RankingClip first = new RankingClip();
        first.setMediaKey("uploads/" + "2".repeat(64) + ".mov");
        first.setRank(1);
        first.setLabel("CEO fraud");
        first.setKeepAudio(false);
        MusicTrack music = new MusicTrack();
        music.setMediaKey("uploads/" + "3".repeat(64) + ".mp3");
        music.setVolume(0.2);

        RankingSpec spec = new RankingSpec();
        spec.setTemplate(RankingTemplate.RANKING);
        spec.setTitle("Top 2 scams");
        spec.setClips(List.of(second, first));
        spec.setMusic(music);

        RankingRenderRequested request = new RankingRenderRequested();
        request.setJobID("job-java-ranking");
        request.setVideoID("video-43");
        request.setAttempt(2L);
        request.setSpec(spec);
        return request;
    }

    public static void main(String[] args) throws IOException {
        ObjectMapper mapper = wireMapper();
        if (args.length == 1 && args[0].equals("build")) {
            System.out.println(mapper.writeValueAsString(lessonRequest()));
            System.out.println(mapper.writeValueAsString(rankingRequest()));
        } else if (args.length > 1 && args[0].equals("echo")) {
            for (int i = 1; i < args.length; i++) {
                String json = Files.readString(Path.of(args[i]), StandardCharsets.UTF_8);
                // The template picks the class, as a Spring consumer would before binding the body.
                String template = mapper.readTree(json).path("spec").path("template").asText();
                Class<?> shape =
                        template.equals("ranking") ? RankingRenderRequested.class : LessonRenderRequested.class;
                Object request = mapper.readValue(json, shape);
                System.out.println(mapper.writeValueAsString(request));
            }
        } else {
            System.err.println("usage: RenderRequestsFromJava build | echo FILE...");
            System.exit(2);
        }
    }
}
