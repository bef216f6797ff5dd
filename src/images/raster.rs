//! 8-bit RGB pictures: composing panels side by side, magnifying small images, PNG encoding.

/// An RGB picture, row-major, row 0 at the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<[u8; 3]>,
}

/// White, the background between panels.
pub const WHITE: [u8; 3] = [255, 255, 255];

impl RgbImage {
    pub fn filled(width: usize, height: usize, color: [u8; 3]) -> Self {
        RgbImage {
            width,
            height,
            pixels: vec![color; width * height],
        }
    }

    pub fn get(&self, row: usize, col: usize) -> [u8; 3] {
        self.pixels[row * self.width + col]
    }

    /// Each pixel drawn as a `factor` × `factor` block (nearest neighbour, so pixels stay sharp).
    pub fn magnified(&self, factor: usize) -> RgbImage {
        let (width, height) = (self.width * factor, self.height * factor);
        let pixels = (0..width * height)
            .map(|i| self.get(i / width / factor, i % width / factor))
            .collect();
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    /// The panels left to right, top-aligned, `gap` white columns apart.
    pub fn side_by_side(panels: &[RgbImage], gap: usize) -> RgbImage {
        let width =
            panels.iter().map(|p| p.width).sum::<usize>() + gap * panels.len().saturating_sub(1);
        let height = panels.iter().map(|p| p.height).max().unwrap_or(0);
        let mut out = RgbImage::filled(width, height, WHITE);
        let mut left = 0;
        for panel in panels {
            for row in 0..panel.height {
                let start = row * out.width + left;
                out.pixels[start..start + panel.width]
                    .copy_from_slice(&panel.pixels[row * panel.width..(row + 1) * panel.width]);
            }
            left += panel.width + gap;
        }
        out
    }

    /// The picture as a PNG file (8-bit RGB).
    pub fn to_png(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let width = u32::try_from(self.width).expect("image width fits in u32");
        let height = u32::try_from(self.height).expect("image height fits in u32");
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let data: Vec<u8> = self.pixels.iter().flatten().copied().collect();
        // Writing to memory can only fail on an inconsistent size, which the type rules out.
        let mut writer = encoder.write_header().expect("PNG header in memory");
        writer.write_image_data(&data).expect("PNG data in memory");
        writer.finish().expect("PNG end in memory");
        bytes
    }
}

/// Smallest width of a panel in a figure, in screen pixels.
const MIN_PANEL_PIXELS: usize = 256;
/// White space between the panels of a figure, in screen pixels.
const PANEL_GAP: usize = 8;

/// A figure as PNG: the panels (pictures of one grid size) left to right, each magnified to
/// at least 256 screen pixels, 8 pixels apart.
pub fn figure_png(panels: &[RgbImage]) -> Vec<u8> {
    let size = panels.iter().map(|p| p.width).max().unwrap_or(1);
    let factor = magnification(size, MIN_PANEL_PIXELS);
    let magnified: Vec<RgbImage> = panels.iter().map(|p| p.magnified(factor)).collect();
    RgbImage::side_by_side(&magnified, PANEL_GAP).to_png()
}

/// The smallest magnification that makes a `size`-pixel panel at least `min_pixels` wide, so
/// that a 64-pixel image is not a postage stamp when the PNG is shown at its own size.
fn magnification(size: usize, min_pixels: usize) -> usize {
    min_pixels.div_ceil(size.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_and_magnification() {
        let red = RgbImage::filled(2, 2, [255, 0, 0]);
        let blue = RgbImage::filled(1, 3, [0, 0, 255]);
        let both = RgbImage::side_by_side(&[red.clone(), blue], 1);
        assert_eq!((both.width, both.height), (4, 3));
        assert_eq!(both.get(0, 0), [255, 0, 0]);
        assert_eq!(both.get(0, 2), WHITE, "the gap");
        assert_eq!(both.get(2, 3), [0, 0, 255]);
        assert_eq!(both.get(2, 0), WHITE, "below the shorter panel");
        let big = red.magnified(3);
        assert_eq!((big.width, big.height), (6, 6));
        assert!(big.pixels.iter().all(|p| *p == [255, 0, 0]));
        assert_eq!(magnification(64, 256), 4);
        assert_eq!(magnification(100, 256), 3);
        assert_eq!(magnification(512, 256), 1);
    }

    #[test]
    fn png_decodes_to_the_same_pixels() {
        let mut picture = RgbImage::filled(3, 2, [10, 20, 30]);
        picture.pixels[4] = [200, 100, 0];
        let bytes = picture.to_png();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), (3, 2));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buffer[12..15], &[200, 100, 0]);
        assert_eq!(&buffer[..3], &[10, 20, 30]);
    }
}
