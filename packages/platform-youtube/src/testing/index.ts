export { chunkUnit, errorBody, type FakeChannel, type FakeSession, type FakeVideo, FakeYoutube, type FakeYoutubeOptions } from "./FakeYoutube.js"
