// WebP through libwebp's animation decoder, as Pillow 9.4 does for every WebP file: the first
// frame composited on a transparent canvas, returned RGBA; alpha is then dropped.
#include <webp/decode.h>
#include <webp/demux.h>

#include <memory>

#include "media/decoders.h"
#include "media/exif.h"

namespace ocular::media::internal {
namespace {

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* d) const { WebPAnimDecoderDelete(d); }
};

}  // namespace

Result<DecodedImage> DecodeWebp(std::span<const uint8_t> bytes, const ImageLimits& limits) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(bytes.data(), bytes.size(), &features) != VP8_STATUS_OK) {
    return DataLoss("corrupt or truncated WebP header");
  }
  RETURN_IF_ERROR(CheckImageDims(static_cast<uint64_t>(std::max(features.width, 0)),
                                 static_cast<uint64_t>(std::max(features.height, 0)), limits));
  WebPData data{bytes.data(), bytes.size()};
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) return Internal("WebP decoder initialisation failed");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> dec(WebPAnimDecoderNew(&data, &options));
  if (!dec) return DataLoss("corrupt or truncated WebP data");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(dec.get(), &info)) return DataLoss("corrupt WebP data");
  // The canvas is what gets allocated: it must be within the limits as well.
  RETURN_IF_ERROR(CheckImageDims(info.canvas_width, info.canvas_height, limits));
  uint8_t* canvas = nullptr;  // [canvas_height][canvas_width][4], owned by the decoder
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(dec.get(), &canvas, &timestamp) || canvas == nullptr) {
    return DataLoss("corrupt or truncated WebP data");
  }
  DecodedImage out;
  out.format = ImageFormat::kWebp;
  out.animated = info.frame_count > 1;
  out.source_mode = features.has_alpha ? "RGBA" : "RGB";
  RgbImage rgb;
  rgb.width = static_cast<int32_t>(info.canvas_width);
  rgb.height = static_cast<int32_t>(info.canvas_height);
  rgb.data.resize(rgb.num_bytes());
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  for (size_t i = 0; i < n; ++i) {
    rgb.data[3 * i + 0] = canvas[4 * i + 0];
    rgb.data[3 * i + 1] = canvas[4 * i + 1];
    rgb.data[3 * i + 2] = canvas[4 * i + 2];
  }
  const WebPDemuxer* demux = WebPAnimDecoderGetDemuxer(dec.get());
  WebPChunkIterator chunk;
  if (demux != nullptr && WebPDemuxGetChunk(demux, "EXIF", 1, &chunk)) {
    out.exif_orientation = ExifOrientationFromTiff({chunk.chunk.bytes, chunk.chunk.size});
    WebPDemuxReleaseChunkIterator(&chunk);
  }
  out.rgb = out.exif_orientation == 1 ? std::move(rgb) : ApplyOrientation(rgb, out.exif_orientation);
  return out;
}

}  // namespace ocular::media::internal
