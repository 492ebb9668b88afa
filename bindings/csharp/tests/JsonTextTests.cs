using System;
using System.Collections.Generic;
using System.Linq;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Polyipc.Tests
{
    /// <summary>
    /// JsonText.Serialize writes common shapes itself under Json.NET's defaults: its text must be
    /// Json.NET's to the byte, and whatever it does not write must reach Json.NET whole.
    /// </summary>
    public class JsonTextTests
    {
        public enum Color { Red = 1 }

        [JsonConverter(typeof(Newtonsoft.Json.Converters.StringEnumConverter))]
        public enum Side { Left = 1 }

        private static object[] Samples()
        {
            var deep = new List<object>();
            object inner = 1;
            for (int i = 0; i < 20; i++) inner = new List<object> { inner }; // deeper than the writer goes
            deep.Add(inner);
            return new object[]
            {
                null, true, false, 0, -1, int.MinValue, long.MinValue, long.MaxValue, ulong.MaxValue, uint.MaxValue,
                (byte)255, (sbyte)-3, (short)-300, (ushort)65535,
                "", "plain", "q\"b\\s/ \b\f\n\r\t \u0001\u001f \u007f \u0085 \u2028\u2029 \u00e9 \ud83d\ude00",
                "\ud800 lone", "</script>", "a\n\u0001 (Json.NET 6's JsonConvert.ToString throws here)", "\u0000",
                new object[0], new int[] { 1, 2, 3 }, new long[] { long.MinValue }, new string[] { "a", null, "\n" },
                new object[] { 1, "x", null, true, new[] { 1, 2 }, new List<object> { "y", new object[0] } },
                new List<int> { 4, 5 }, new List<string> { "s" }, new List<byte> { 1, 2 }, new List<object> { null },
                new sbyte[] { -1, 2 }, new ushort[] { 65535 }, new ulong[] { ulong.MaxValue }, new int[][] { new[] { 1 }, new int[0] },
                new int?[] { 1, null }, new List<int?> { null, 2 },
                deep,
                // Json.NET's alone, also inside the shapes above: a whole double, a fraction, a char, an
                // enum, bytes (base64), a date, a decimal, a dictionary, a JToken, an object, a 2-D array.
                1.0, 1.5, new object[] { 1, 1.0 }, 'c', new[] { 'c' }, Color.Red, new object[] { Color.Red }, Side.Left, new List<Side> { Side.Left },
                new byte[] { 1, 2, 3 }, new object[] { new byte[] { 1 } }, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc),
                1.25m, new Dictionary<string, int> { { "a", 1 } }, new List<object> { new Dictionary<string, int>() },
                new { x = 1 }, new int[,] { { 1, 2 }, { 3, 4 } },
                // JTokens, written by their own writer: every kind of value, alone and inside the shapes above.
                JToken.Parse("[1,{\"a\":2.5}]"), new JValue(1.0), new JValue(-0.0), new JValue(1e300), new JValue(42L),
                new JValue("a\n\u0001 \u2028"), new JValue(new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc)),
                new JValue(true), JValue.CreateNull(), new JValue(1.25m), new JValue('c'), new JValue(new byte[] { 1, 2 }),
                new JRaw("[1,  2]"), new JObject { { "k", new JArray(1, "x", null) } }, new JArray(),
                new object[] { new JValue(1.0), JObject.Parse("{\"d\":\"2020-01-02T03:04:05Z\"}") },
            };
        }

        [Test]
        public void WhatItWritesIsJsonNetsTextToTheByte()
        {
            object[] samples = Samples();
            for (int i = 0; i < samples.Length; i++)
            {
                string expected = JsonConvert.SerializeObject(samples[i]);
                Assert.Equal(expected, JsonText.Serialize(samples[i], null), "sample " + i + ": " + expected);
            }
        }

        [Test]
        public void SettingsOfTheCallersOrSetGloballyAreJsonNetsToApply()
        {
            var settings = new JsonSerializerSettings { StringEscapeHandling = StringEscapeHandling.EscapeNonAscii };
            object value = new object[] { "\u00e9", 1 };
            Assert.Equal("[\"\\u00e9\",1]", JsonText.Serialize(value, settings), "the caller's settings");
            Func<JsonSerializerSettings> before = JsonConvert.DefaultSettings;
            JsonConvert.DefaultSettings = () => settings;
            try
            {
                Assert.Equal("[\"\\u00e9\",1]", JsonText.Serialize(value, null), "settings made the default");
            }
            finally
            {
                JsonConvert.DefaultSettings = before;
            }
            Assert.Equal("[\"\u00e9\",1]", JsonText.Serialize(value, null), "the defaults");
        }

        [Test]
        public void AListThatHoldsItselfIsJsonNetsError()
        {
            var loop = new List<object>();
            loop.Add(loop);
            Assert.Throws<JsonSerializationException>(() => JsonText.Serialize(loop, null), "Json.NET's loop error");
        }
    }
}
