//! Binary shapes for the shape decoder, defined in the continuous square [−1, 1]² (y up) and
//! sampled at pixel centers. No font files: the glyph is drawn from polygons.

use serde::Serialize;

use super::{center_x, center_y};

/// The shapes `anmin gen sdf` can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// A centered disk of radius 0.6.
    Disk,
    /// A five-pointed star, one point up.
    Star,
    /// A bold capital "A": two slanted strokes, a crossbar and a triangular hole.
    Glyph,
}

/// A closed polygon: its vertices in order (the last connects to the first).
type Ring = Vec<(f64, f64)>;

impl Shape {
    /// Whether the point (x, y) belongs to the shape.
    pub fn contains(self, x: f64, y: f64) -> bool {
        self.membership()(x, y)
    }

    /// The shape sampled at the pixel centers of a `size` × `size` grid, row-major.
    pub fn rasterize(self, size: usize) -> Vec<bool> {
        let inside = self.membership();
        (0..size * size)
            .map(|i| inside(center_x(i % size, size), center_y(i / size, size)))
            .collect()
    }

    /// The membership test, with the shape's polygons built once rather than per point.
    fn membership(self) -> Box<dyn Fn(f64, f64) -> bool> {
        let rings = match self {
            Shape::Disk => return Box::new(|x, y| x * x + y * y <= DISK_RADIUS * DISK_RADIUS),
            Shape::Star => vec![star_ring()],
            Shape::Glyph => glyph_rings(),
        };
        Box::new(move |x, y| inside_even_odd(&rings, x, y))
    }
}

const DISK_RADIUS: f64 = 0.6;

/// Ten vertices alternating between the outer radius (the points) and the inner radius (the
/// notches), starting with the top point. The inner radius is a little larger than a regular
/// star's (0.38 of the outer), so the points are not needle-thin at 128 pixels. Shifted down
/// so that the top point and the bottom points are equally far from the edge.
fn star_ring() -> Ring {
    const OUTER: f64 = 0.85;
    const INNER: f64 = 0.4;
    const CENTER_Y: f64 = -0.08;
    (0..10)
        .map(|k| {
            let angle = std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
            let radius = if k % 2 == 0 { OUTER } else { INNER };
            (radius * angle.cos(), CENTER_Y + radius * angle.sin())
        })
        .collect()
}

/// The outline of the "A" and its hole. The strokes are 0.3 wide (measured across x); the
/// inner edges are parallel to the outer ones.
fn glyph_rings() -> Vec<Ring> {
    let outline = vec![
        (-0.75, -0.8),
        (-0.45, -0.8),
        (-0.319, -0.45),
        (0.319, -0.45),
        (0.45, -0.8),
        (0.75, -0.8),
        (0.15, 0.8),
        (-0.15, 0.8),
    ];
    let hole = vec![(-0.206, -0.15), (0.206, -0.15), (0.0, 0.4)];
    vec![outline, hole]
}

/// Even-odd rule: inside when a ray from (x, y) toward +x crosses the rings' edges an odd
/// number of times, so a ring inside another is a hole.
fn inside_even_odd(rings: &[Ring], x: f64, y: f64) -> bool {
    let mut inside = false;
    for ring in rings {
        for (i, &(x1, y1)) in ring.iter().enumerate() {
            let (x2, y2) = ring[(i + 1) % ring.len()];
            // Half-open in y, so a vertex on the ray's line is counted once.
            if (y1 > y) != (y2 > y) {
                let x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
                if x < x_cross {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_contain_what_they_should() {
        assert!(Shape::Disk.contains(0.0, 0.0) && !Shape::Disk.contains(0.5, 0.5));
        assert!(Shape::Star.contains(0.0, 0.0));
        assert!(Shape::Star.contains(0.0, 0.7), "the top point");
        assert!(!Shape::Star.contains(0.45, 0.45), "between two points");
        // The glyph: a stroke, the crossbar, the hole above it, the gap between the legs.
        assert!(Shape::Glyph.contains(-0.55, -0.7));
        assert!(Shape::Glyph.contains(0.0, -0.3));
        assert!(!Shape::Glyph.contains(0.0, 0.0), "the hole");
        assert!(!Shape::Glyph.contains(0.0, -0.7), "between the legs");
        assert!(Shape::Glyph.contains(0.0, 0.6), "the apex");
    }

    #[test]
    fn rasterized_shapes_have_inside_and_outside() {
        for shape in [Shape::Disk, Shape::Star, Shape::Glyph] {
            let mask = shape.rasterize(16);
            let inside = mask.iter().filter(|&&v| v).count();
            assert!(inside > 10 && inside < 200, "{shape:?}: {inside} of 256");
            // The border of the grid is outside.
            assert!(!mask[0] && !mask[255]);
        }
    }
}
